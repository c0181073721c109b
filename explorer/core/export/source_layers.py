"""The source of the layers torch does not have, written out only when a spec uses them.

Each mirrors its module in ``explorer.core.blocks`` or ``explorer.core.parts`` step for step,
so that the generated network computes what ``build_model`` computes, bit for bit."""

from __future__ import annotations

ZERO_PAD_SHORTCUT = '''
class ZeroPadShortcut(nn.Module):
    """The CIFAR paper's option A: a strided identity padded with zero channels."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        extra = self.out_channels - self.in_channels
        return F.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2))
'''

BLUR_POOL = '''
class BlurPool2d(nn.Module):
    """Anti-aliased downsampling (Zhang 2019): a fixed 3x3 binomial filter per channel,
    applied with reflect padding and the stride."""

    def __init__(self, channels: int, stride: int = 2) -> None:
        super().__init__()
        self.channels = channels
        self.stride = stride
        self.padding = [(stride + 1) // 2] * 4
        coeffs = torch.tensor([1.0, 2.0, 1.0]) / 4
        blur = (coeffs[:, None] * coeffs[None, :])[None, None, :, :]
        self.register_buffer("filt", blur.repeat(channels, 1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, self.padding, mode="reflect")
        return F.conv2d(x, self.filt, stride=self.stride, groups=self.channels)
'''

AVG_POOL_SAME = '''
class AvgPool2dSame(nn.Module):
    """A 2x2 average pool with stride 1 and 'same' padding: the extra row and column go
    after the input (the shortcut of a dilated stage)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, [0, 1, 0, 1])
        return F.avg_pool2d(x, 2, 1, 0, True, False)
'''

DROP_PATH = '''
class DropPath(nn.Module):
    """Stochastic depth: in training, drops the whole branch per sample with ``rate``."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        mask = torch.empty_like(x[:, :1, :1, :1]).bernoulli_(keep)
        return x * mask / keep
'''


def se_module(ratio: float) -> str:
    return f'''
class SEModule(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018): gates channels by a pooled bottleneck
    whose width is ``channels * ratio`` rounded to a multiple of 8 (at least 8)."""

    def __init__(self, channels: int, ratio: float = {ratio!r}) -> None:
        super().__init__()
        squeeze = max(8, int(channels * ratio + 4) // 8 * 8)
        self.fc1 = nn.Conv2d(channels, squeeze, kernel_size=1)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(squeeze, channels, kernel_size=1)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.mean((2, 3), keepdim=True)
        y = self.fc2(self.act(self.fc1(y)))
        return x * self.gate(y)
'''


ECA_MODULE = '''
class EcaModule(nn.Module):
    """Efficient channel attention (Wang et al. 2020): gates channels by a 1-d conv over
    the pooled channels, its kernel size adapted to the channel count."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        t = int(abs(math.log2(channels) + 1) / 2)
        kernel_size = max(t if t % 2 else t + 1, 3)
        padding = (kernel_size - 1) // 2
        self.conv = nn.Conv1d(1, 1, kernel_size, padding=padding, bias=False)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.mean((2, 3), keepdim=True).view(x.shape[0], 1, -1)
        y = self.gate(self.conv(y)).view(x.shape[0], -1, 1, 1)
        return x * y
'''
