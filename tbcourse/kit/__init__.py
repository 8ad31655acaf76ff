"""What the lessons import, and nothing else: data paths and log folders, LeNet, the AlexNet loader,
reading back event files, and the check a lesson's notebook runs in its last cell. Lessons, the graded tests
and the authors' tools import it."""
