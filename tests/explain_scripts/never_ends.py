"""Never returns: --run must stop it after --timeout seconds."""

import time

while True:
    time.sleep(0.5)
