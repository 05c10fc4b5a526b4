"""``python -m cryptows.config``: print the example configuration.

Regenerate the repository's copy with ``python -m cryptows.config > config.example.toml``.
"""

from __future__ import annotations

import sys

from cryptows.config.example import example_config_text

if __name__ == "__main__":
    sys.stdout.write(example_config_text())
