"""``python -m reference_model``: train, write the artifact, evaluate (see main.py)."""

import sys

from reference_model.main import main

sys.exit(main())
