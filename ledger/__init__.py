"""ReelLedger's domain core: chain access, the database and the rules of works, licences and splits."""
