"""Time of the training-memory prediction (pure Python) against running the saved-tensor
oracle (a real training forward pass with autograd's saved-tensor hooks), in one run.

    .venv/bin/python benchmarks/training_memory.py [--preset torchvision/resnet152] [--input 3x224x224]
        [--batch 1] [--dtype float32] [--repeat 5]

The prediction is timed cold (its per-spec profile computed, the plan and analysis cached
as the app has them) and warm (the profile cached, as when only the batch changes); the
oracle includes building the model on the CPU, as a script that wanted the figure would.
Both byte counts are printed, with their difference.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import median_ms, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="torchvision/resnet152")
    parser.add_argument("--input", default="3x224x224")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import torch

    from explorer.core import training_memory
    from explorer.core.analysis import analyze
    from explorer.core.build import build_model
    from explorer.core.presets import preset
    from tests.saved_tensors_oracle import saved_tensors

    channels, height, width = (int(v) for v in args.input.split("x"))
    spec = replace(preset(args.preset), in_channels=channels, input_size=(height, width))
    analyze(spec)  # the app has the analysis already when it asks for the memory

    def predict_cold() -> training_memory.TrainingMemory:
        training_memory._profile.cache_clear()
        return training_memory.predict_training_memory(
            spec, args.batch, precision=args.dtype, device_type="cpu"
        )

    def predict_warm() -> training_memory.TrainingMemory:
        return training_memory.predict_training_memory(
            spec, args.batch, precision=args.dtype, device_type="cpu"
        )

    cold = median_ms(timed(predict_cold, args.repeat))
    warm = median_ms(timed(predict_warm, args.repeat))
    prediction = predict_warm()

    torch.manual_seed(0)
    oracle_times = []
    measured = None
    for _ in range(max(1, args.repeat // 2)):
        start = time.perf_counter()
        model = build_model(spec)
        inputs = torch.randn(args.batch, *spec.input_shape)
        labels = torch.randint(0, spec.num_classes, (args.batch,)) if spec.num_classes else None
        measured = saved_tensors(model, inputs, labels, args.dtype)
        oracle_times.append(time.perf_counter() - start)
        del model
    assert measured is not None
    oracle = median_ms(oracle_times)

    predicted_bytes = prediction.saved_activation_bytes + prediction.weight_copy_bytes
    print(
        f"{args.preset} at {args.input}, batch {args.batch}, {args.dtype} (threads {torch.get_num_threads()})"
    )
    print(f"  prediction, cold profile   {cold:10.2f} ms")
    print(f"  prediction, warm profile   {warm:10.3f} ms")
    print(f"  saved-tensor oracle        {oracle:10.1f} ms  (build + forward with hooks)")
    print(f"  oracle / cold prediction   {oracle / cold:10.1f} x")
    print(f"  predicted saved bytes      {predicted_bytes:>14,}")
    print(f"  oracle saved bytes         {measured.total_bytes:>14,}")
    difference = predicted_bytes - measured.total_bytes
    print(f"  difference                 {difference:>14,}  ({difference / measured.total_bytes:+.4%})")


if __name__ == "__main__":
    main()
