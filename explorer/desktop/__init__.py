"""The app's place on a freedesktop.org desktop (Linux, the BSDs): the menu entry, the icon,
the MIME types of its files, the desktop's list of recently used files.

Nothing here imports Qt: the command line installs the entry, and the icons it installs are
drawn beforehand (``explorer/resources/icons``, from the SVG there).
"""
