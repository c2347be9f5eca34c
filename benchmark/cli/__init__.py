"""The `bench`, `report`, `reproduce`, `runs` and `selftest` subcommands: parsing and wiring."""
