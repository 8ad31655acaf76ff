"""Support code shared by the lessons and the grader of "TensorBoard, part 2"."""
