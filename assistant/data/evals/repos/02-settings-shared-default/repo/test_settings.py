import unittest

import settings


class SettingsTest(unittest.TestCase):
    def test_user_values_win(self):
        self.assertEqual(settings.load({"font_size": 14})["font_size"], 14)

    def test_unknown_setting(self):
        with self.assertRaises(ValueError):
            settings.load({"colour": "red"})

    def test_defaults_are_not_changed(self):
        settings.load({"theme": "dark"})
        self.assertEqual(settings.load()["theme"], "light")


if __name__ == "__main__":
    unittest.main()
