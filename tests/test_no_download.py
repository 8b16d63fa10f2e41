"""Runs never download: a download attempt fails and says where the file belongs."""


def test_a_download_attempt_fails_with_where_to_put_the_file(harness):
    harness.makepyfile(
        """
        import pytest
        import torch.hub

        def test_load_from_url(tmp_path):
            with pytest.raises(RuntimeError) as refused:
                torch.hub.load_state_dict_from_url("https://example.invalid/w-0123abcd.pth", model_dir=str(tmp_path))
            assert "conformance runs never download" in str(refused.value)
            assert str(tmp_path / "w-0123abcd.pth") in str(refused.value)
        """
    )
    harness.runpytest().assert_outcomes(passed=1)


def test_the_download_function_is_restored_after_the_run(harness):
    import torch.hub

    original = torch.hub.download_url_to_file
    harness.makepyfile("def test_nothing(engine): pass")
    harness.runpytest().assert_outcomes(passed=1)
    assert torch.hub.download_url_to_file is original
