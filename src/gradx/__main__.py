"""``python -m gradx``: the same program as the ``gradx`` command."""

from gradx.cli import main

if __name__ == "__main__":
    main()
