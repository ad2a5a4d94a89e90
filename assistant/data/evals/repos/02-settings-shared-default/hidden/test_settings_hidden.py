import unittest

import settings


class HiddenSettingsTest(unittest.TestCase):
    def test_calls_are_independent(self):
        first = settings.load({"theme": "dark", "font_size": 20})
        second = settings.load()
        self.assertEqual(first["theme"], "dark")
        self.assertEqual(second, {"theme": "light", "font_size": 12, "plugins": []})
        self.assertEqual(settings.DEFAULTS, {"theme": "light", "font_size": 12, "plugins": []})

    def test_plugins_do_not_leak(self):
        settings.add_plugin(settings.load(), "git")
        self.assertEqual(settings.load()["plugins"], [])
        self.assertEqual(settings.DEFAULTS["plugins"], [])

    def test_add_plugin_once(self):
        chosen = settings.add_plugin(settings.add_plugin(settings.load(), "git"), "git")
        self.assertEqual(chosen["plugins"], ["git"])

    def test_unknown_setting(self):
        with self.assertRaises(ValueError):
            settings.load({"colour": "red"})


if __name__ == "__main__":
    unittest.main()
