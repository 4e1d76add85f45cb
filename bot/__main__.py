import os
import sys

# One BLAS thread, unless the operator chose: a question's vector is one small product, and on a small shared
# machine OpenBLAS's second thread waits for a core (0.03 to 0.7 s a question instead of a steady 25 ms).
# Set before numpy is first imported, which reads it once.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bot.cli import main  # noqa: E402

sys.exit(main())
