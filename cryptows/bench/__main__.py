"""``python -m cryptows.bench``: see :mod:`cryptows.bench`."""

from cryptows.bench import main

main()
