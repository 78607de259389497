"""`python -m rnnkit.cli`: the same as the `rnnkit` command."""

from rnnkit.cli.app import main

if __name__ == "__main__":
    main()
