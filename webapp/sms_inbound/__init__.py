"""Texts to our number: Twilio's webhooks (``routes``), acting on a text (``handler``) and the
spool for texts that arrive while the database is down (``spool``). This side imports the
features it calls; the features import only the outbound side (``webapp.sms``)."""
