"""The page stage: plan -> render (Jinja2) -> guard (doorway check) -> write -> sitemap.

`build.build_pages` runs the stage; `preview` serves its output on localhost.
"""
