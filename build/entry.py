"""PyInstaller's entry script: the frozen app is the same ``main`` as ``mlflow-launcher``."""

import sys

from launcher.app.main import main

if __name__ == "__main__":
    sys.exit(main())
