"""Splitting a list into pages, numbered from 1."""


def page_count(items, per_page):
    """How many pages `items` fill, `per_page` on each (at least one page)."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    return max(1, -(-len(items) // per_page))


def paginate(items, page, per_page=10):
    """The items on page `page` (1 is the first page); an empty list past the last page."""
    if page < 1:
        raise ValueError("pages are numbered from 1")
    start = (page - 1) * per_page
    return items[start:start + per_page]
