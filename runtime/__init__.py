"""What both layers need and neither owns: the thread policy, atomic files and folders, memory tuning.

Imports nothing of embedspace, transformer or cli (only the standard library, numpy and threadpoolctl).
"""
