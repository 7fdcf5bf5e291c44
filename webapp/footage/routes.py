"""Footage-request pages. (Being built: issue 7.)"""
