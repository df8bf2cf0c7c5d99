"""Reports built from the store: the ledger (台账) now; the campaign's weekly and final reports to come."""
