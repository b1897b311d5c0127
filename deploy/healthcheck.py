"""The images' HEALTHCHECK (the slim base has no curl): exit 0 when the URL answers 2xx
within 4 s, 1 otherwise.

    python deploy/healthcheck.py http://127.0.0.1:8080/health/live
"""

import sys
import urllib.request


def main(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if 200 <= response.status < 300 else 1
    except OSError:  # refused, timed out, or an HTTP error status (HTTPError)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
