"""The bottom layer: errors grouped by what the caller should do, the clock, the order vocabulary.

Everything above may import from here; nothing here imports from another folder of the project.
"""
