"""``python -m golf_check.reference_model``: train, write the artifact, evaluate (see main.py)."""

import sys

from golf_check.reference_model.main import main

sys.exit(main())
