"""Area indicators (measured need): time series per social area imported from statistics
offices, rolled up the hierarchy where additive, linked to need categories."""
