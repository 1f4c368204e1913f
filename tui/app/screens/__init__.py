"""The app's dialogs: each a modal screen that returns what the person chose."""
