"""LeNet as the original course wrote it: the one model every lesson shares."""
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):
    """conv1 Conv2d(3, 6, 5), conv2 Conv2d(6, 16, 5), fc1 400->120, fc2 120->84, fc3 84->classes.

    ReLU and a 2x2 max-pool follow each convolution, ReLU follows fc1 and fc2. They are functional
    calls, as in the original, so module-based tools (torchsummary) see only the five layers.
    Input: (N, 3, 32, 32).
    """

    def __init__(self, classes: int = 2):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        out = F.max_pool2d(F.relu(self.conv1(x)), 2)
        out = F.max_pool2d(F.relu(self.conv2(out)), 2)
        out = out.flatten(1)
        out = F.relu(self.fc1(out))
        out = F.relu(self.fc2(out))
        return self.fc3(out)
