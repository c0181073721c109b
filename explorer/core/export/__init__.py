"""Export of a spec's network: standalone PyTorch source, ONNX and a torch.export program."""
