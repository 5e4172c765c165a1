"""``python -m tapegrad``: the ``tapegrad`` command."""
from tapegrad.cli import console

if __name__ == "__main__":
    console()
