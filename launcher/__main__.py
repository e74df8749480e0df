"""``python -m launcher``: the same entry point as the installed ``mlflow-launcher``."""

import sys

from launcher.app.main import main

if __name__ == "__main__":
    sys.exit(main())
