"""SQL-level acceptance tests of the QUEUE engine (a package, so test file names may repeat
those of tests/library/)."""
