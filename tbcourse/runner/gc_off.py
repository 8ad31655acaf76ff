"""Imported first by multiprocessing's forkserver, whose preload takes module names only: no garbage
collection while it imports the lessons' libraries (importing torch, torchvision and tensorboard makes
cycles the collector would walk again and again: about a fifth of the import's time here). Each worker
the forkserver forks freezes what it inherited and turns collection back on (``tbcourse.runner.methods.fork``)."""
import gc

gc.disable()
