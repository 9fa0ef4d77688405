"""The landing page shows a real sample: the one stored in chapter 5's outputs."""

import landing_sample


def test_landing_page_sample_comes_from_chapter_5():
    sample = landing_sample.sample_from_chapter()
    assert len(sample) > 100
    assert landing_sample.same_text(landing_sample.sample_on_page(), sample), (
        "run scripts/landing_sample.py"
    )
