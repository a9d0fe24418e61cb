"""Sub-commands of the `harvester` CLI; each module has add_parser(subparsers) and run(args)."""
