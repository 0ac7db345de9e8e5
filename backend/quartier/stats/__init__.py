"""Statistics shared by every aggregate Quartier publishes: confidence intervals of shares
(`intervals`), population weighting (`weighting`) and disclosure control (`disclosure`). Pure
functions over counts, no database: the domains count in SQL and hand the small grids here."""
