"""Open data: the DCAT-AP.de catalogue and public downloads (issue #13 §4)."""
