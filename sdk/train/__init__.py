"""Training on CPU: losses, batches with augmentation, and a resumable loop."""
