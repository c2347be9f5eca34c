"""Model files for perf/dynamic_latency.py, written inline (no torchvision, no timm, no
downloads): a residual conv net of any depth, and ImageNet-size Inception-ResNet-v2, NASNet-A
Large and PolyNet, each in the architecture of its paper (the same stages, blocks, widths and
input size; the classifier heads simplified).
"""

from __future__ import annotations

DEPTHS = (10, 50, 200, 800)


def deep_conv(depth: int) -> str:
    """A residual conv net of `depth` blocks: Conv2d, BatchNorm2d, ReLU and the skip addition."""
    return f"""
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)) + x)


class Deep(nn.Module):
    def __init__(self, depth={depth}, c=32, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())
        self.blocks = nn.Sequential(*[Block(c) for _ in range(depth)])
        self.head = nn.Linear(c, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


model = Deep()  # deepeval: input=(2, 3, 32, 32)
"""


# The Inception-ResNet modules (Szegedy et al. 2016) that Inception-ResNet-v2 and PolyNet share:
# the stem, the residual functions of the 35×35, 17×17 and 8×8 grids, and the two reductions.
_INCEPTION = """
import torch
from torch import nn


class Conv(nn.Module):
    def __init__(self, cin, cout, k, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(
            Conv(3, 32, 3, 2), Conv(32, 32, 3), Conv(32, 64, 3, padding=1), nn.MaxPool2d(3, 2),
            Conv(64, 80, 1), Conv(80, 192, 3), nn.MaxPool2d(3, 2),
        )
        self.b0 = Conv(192, 96, 1)
        self.b1 = nn.Sequential(Conv(192, 48, 1), Conv(48, 64, 5, padding=2))
        self.b2 = nn.Sequential(Conv(192, 64, 1), Conv(64, 96, 3, padding=1),
                                Conv(96, 96, 3, padding=1))
        self.b3 = nn.Sequential(nn.AvgPool2d(3, 1, padding=1, count_include_pad=False),
                                Conv(192, 64, 1))

    def forward(self, x):
        x = self.convs(x)
        return torch.cat([self.b0(x), self.b1(x), self.b2(x), self.b3(x)], 1)  # 320


class F35(nn.Module):
    def __init__(self, c=320):
        super().__init__()
        self.b0 = Conv(c, 32, 1)
        self.b1 = nn.Sequential(Conv(c, 32, 1), Conv(32, 32, 3, padding=1))
        self.b2 = nn.Sequential(Conv(c, 32, 1), Conv(32, 48, 3, padding=1),
                                Conv(48, 64, 3, padding=1))
        self.up = nn.Conv2d(128, c, 1)

    def forward(self, x):
        return self.up(torch.cat([self.b0(x), self.b1(x), self.b2(x)], 1))


class F17(nn.Module):
    def __init__(self, c=1088):
        super().__init__()
        self.b0 = Conv(c, 192, 1)
        self.b1 = nn.Sequential(Conv(c, 128, 1), Conv(128, 160, (1, 7), padding=(0, 3)),
                                Conv(160, 192, (7, 1), padding=(3, 0)))
        self.up = nn.Conv2d(384, c, 1)

    def forward(self, x):
        return self.up(torch.cat([self.b0(x), self.b1(x)], 1))


class F8(nn.Module):
    def __init__(self, c=2080):
        super().__init__()
        self.b0 = Conv(c, 192, 1)
        self.b1 = nn.Sequential(Conv(c, 192, 1), Conv(192, 224, (1, 3), padding=(0, 1)),
                                Conv(224, 256, (3, 1), padding=(1, 0)))
        self.up = nn.Conv2d(448, c, 1)

    def forward(self, x):
        return self.up(torch.cat([self.b0(x), self.b1(x)], 1))


class ReductionA(nn.Module):  # 320 -> 1088
    def __init__(self, c=320):
        super().__init__()
        self.b0 = Conv(c, 384, 3, 2)
        self.b1 = nn.Sequential(Conv(c, 256, 1), Conv(256, 256, 3, padding=1), Conv(256, 384, 3, 2))
        self.pool = nn.MaxPool2d(3, 2)

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1(x), self.pool(x)], 1)


class ReductionB(nn.Module):  # 1088 -> 2080
    def __init__(self, c=1088):
        super().__init__()
        self.b0 = nn.Sequential(Conv(c, 256, 1), Conv(256, 384, 3, 2))
        self.b1 = nn.Sequential(Conv(c, 256, 1), Conv(256, 288, 3, 2))
        self.b2 = nn.Sequential(Conv(c, 256, 1), Conv(256, 288, 3, padding=1), Conv(288, 320, 3, 2))
        self.pool = nn.MaxPool2d(3, 2)

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1(x), self.b2(x), self.pool(x)], 1)
"""

INCEPTION_RESNET_V2 = (
    _INCEPTION
    + """

class Residual(nn.Module):
    def __init__(self, f, scale, relu=True):
        super().__init__()
        self.f, self.scale = f, scale
        self.relu = nn.ReLU(inplace=True) if relu else nn.Identity()

    def forward(self, x):
        return self.relu(x + self.f(x) * self.scale)


class InceptionResNetV2(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.stem = Stem()
        self.a = nn.Sequential(*[Residual(F35(), 0.17) for _ in range(10)])
        self.reduce_a = ReductionA()
        self.b = nn.Sequential(*[Residual(F17(), 0.10) for _ in range(20)])
        self.reduce_b = ReductionB()
        self.c = nn.Sequential(*[Residual(F8(), 0.20) for _ in range(9)],
                               Residual(F8(), 1.0, relu=False))
        self.last = Conv(2080, 1536, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(1536, classes)

    def forward(self, x):
        x = self.reduce_a(self.a(self.stem(x)))
        x = self.c(self.reduce_b(self.b(x)))
        return self.fc(torch.flatten(self.pool(self.last(x)), 1))


model = InceptionResNetV2()  # deepeval: input=(1, 3, 299, 299)
"""
)

# PolyNet (Zhang et al. 2017): the Inception-ResNet stages with the residual unit replaced by
# polynomial compositions: poly-2 x + F(x) + F(F(x)) (one F, twice), poly-3 with F thrice, and
# mpoly-3 x + F(x) + G(F(x)) + H(G(F(x))) (three modules); 10 / 20 / 10 units per stage, 331×331.
POLYNET = (
    _INCEPTION
    + """

class Poly(nn.Module):
    def __init__(self, make, order, shared, scale=0.3):
        super().__init__()
        self.order, self.scale = order, scale
        self.fs = nn.ModuleList([make() for _ in range(1 if shared else order)])
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out, y = x, x
        for i in range(self.order):
            y = self.fs[i % len(self.fs)](y)
            out = out + y * self.scale
        return self.relu(out)


def stage(make, units, first_shared):
    return nn.Sequential(*[
        Poly(make, 2 if first_shared == "poly2" else 3, first_shared != "mpoly" or i % 2 == 0)
        for i in range(units)
    ])


class PolyNet(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.stem = Stem()
        self.a = stage(F35, 10, "poly2")
        self.reduce_a = ReductionA()
        self.b = stage(F17, 20, "mpoly")
        self.reduce_b = ReductionB()
        self.c = stage(F8, 10, "mpoly")
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(2080, classes)

    def forward(self, x):
        x = self.reduce_a(self.a(self.stem(x)))
        x = self.c(self.reduce_b(self.b(x)))
        return self.fc(self.dropout(torch.flatten(self.pool(x), 1)))


model = PolyNet()  # deepeval: input=(1, 3, 331, 331)
"""
)

# NASNet-A Large (Zoph et al. 2018): a stem of two reduction cells, then three stacks of six
# normal cells with a reduction cell between (penultimate width 4032), 331×331. Each cell takes
# the two previous cells' outputs; the older one is reduced when the grid shrank between them.
NASNET = """
import torch
from torch import nn
import torch.nn.functional as F


class SepConv(nn.Module):
    def __init__(self, c, k, stride=1):
        super().__init__()
        layers = []
        for s in (stride, 1):
            layers += [nn.ReLU(), nn.Conv2d(c, c, k, s, k // 2, groups=c, bias=False),
                       nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, eps=0.001)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)


class Project(nn.Module):
    def __init__(self, cin, cout, reduce=False):
        super().__init__()
        self.reduce = reduce
        if reduce:  # factorized reduction: two shifted stride-2 paths
            self.p1 = nn.Conv2d(cin, cout // 2, 1, bias=False)
            self.p2 = nn.Conv2d(cin, cout - cout // 2, 1, bias=False)
        else:
            self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        x = F.relu(x)
        if self.reduce:
            a = self.p1(F.avg_pool2d(x, 1, 2))
            b = self.p2(F.avg_pool2d(F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:], 1, 2))
            return self.bn(torch.cat([a, b], 1))
        return self.bn(self.conv(x))


class NormalCell(nn.Module):
    def __init__(self, c_prev, c_cur, c, reduce_prev):
        super().__init__()
        self.h, self.x = Project(c_prev, c, reduce_prev), Project(c_cur, c)
        self.x5, self.h3, self.h5, self.h3b, self.x3 = (SepConv(c, k) for k in (5, 3, 5, 3, 3))

    def forward(self, h, x):
        h, x = self.h(h), self.x(x)
        avg = lambda t: F.avg_pool2d(t, 3, 1, 1, count_include_pad=False)
        return torch.cat([
            h, self.x5(x) + self.h3(h), self.h5(h) + self.h3b(h), avg(x) + h,
            avg(h) + avg(h), self.x3(x) + x,
        ], 1)


class ReductionCell(nn.Module):
    def __init__(self, c_prev, c_cur, c, reduce_prev):
        super().__init__()
        self.h, self.x = Project(c_prev, c, reduce_prev), Project(c_cur, c)
        self.x5, self.h7, self.h7b, self.h5 = (SepConv(c, k, 2) for k in (5, 7, 7, 5))
        self.c3 = SepConv(c, 3)

    def forward(self, h, x):
        h, x = self.h(h), self.x(x)
        c0 = self.x5(x) + self.h7(h)
        c1 = F.max_pool2d(x, 3, 2, 1) + self.h7b(h)
        c2 = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False) + self.h5(h)
        c3 = F.avg_pool2d(c0, 3, 1, 1, count_include_pad=False) + c1
        return torch.cat([c1, c2, c3, self.c3(c0) + F.max_pool2d(x, 3, 2, 1)], 1)


class NASNetALarge(nn.Module):
    def __init__(self, classes=1000, stacks=3, cells=6, c=168):
        super().__init__()
        self.conv0 = nn.Sequential(nn.Conv2d(3, 96, 3, 2, bias=False), nn.BatchNorm2d(96, 0.001))
        plan = [(ReductionCell, c // 4), (ReductionCell, c // 2)]
        for s in range(stacks):
            if s:
                plan.append((ReductionCell, c * 2 ** s))
            plan += [(NormalCell, c * 2 ** s)] * cells
        self.cells = nn.ModuleList()
        prev, cur, reduced = 96, 96, False
        for kind, width in plan:
            self.cells.append(kind(prev, cur, width, reduced))
            out = width * (6 if kind is NormalCell else 4)
            prev, cur, reduced = cur, out, kind is ReductionCell
        self.fc = nn.Linear(cur, classes)

    def forward(self, x):
        h = x = self.conv0(x)
        for cell in self.cells:
            h, x = x, cell(h, x)
        x = F.adaptive_avg_pool2d(F.relu(x), 1)
        return self.fc(F.dropout(torch.flatten(x, 1), 0.5, self.training))


model = NASNetALarge()  # deepeval: input=(1, 3, 331, 331)
"""

IMAGENET = {
    "inception_resnet_v2": INCEPTION_RESNET_V2,
    "nasnet_large": NASNET,
    "polynet": POLYNET,
}
