"""The dashboard's modal screens: help, threshold and add-symbol prompts, symbol detail."""
