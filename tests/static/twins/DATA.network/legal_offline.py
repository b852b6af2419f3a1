"""Compresses with an OS binary via subprocess (not a network call) and parses a URL string."""
import subprocess
from urllib.parse import urlparse


def compress(path):
    subprocess.run(["lrzip", "-z", path], check=True)
    return urlparse("https://github.com/openai/parameter-golf").netloc
