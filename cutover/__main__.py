"""``python -m cutover``: the same as the ``cutover`` command."""

from cutover.cli import main

# Guarded: a worker process (validation's) imports this module again without running it.
if __name__ == "__main__":
    main()
