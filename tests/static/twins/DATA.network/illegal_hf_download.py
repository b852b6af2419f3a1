"""Downloads weights from the Hugging Face hub during the run."""
import subprocess

from huggingface_hub import hf_hub_download


def main():
    subprocess.run(["pip", "install", "flash-attn"], check=True)
    path = hf_hub_download("someone/pretrained-golf", "model.pt")
    return path
