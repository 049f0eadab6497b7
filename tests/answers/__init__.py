"""Answers to every exercise, in other words than solutions/: correct ones must pass their check, wrong ones fail.

One module per chapter holds two lists of (exercise id, the text that replaces the exercise's solution region):
CORRECT, answers a good teacher would accept, written with other APIs or another structure than the reference;
WRONG, plausible mistakes a learner makes, each with a comment saying what is wrong.

They live here and not beside the checks in tests/checks/ because a student bundle carries tests/checks/
(check() runs them in the learner's kernel), and correct answers must never ship to learners.
"""
