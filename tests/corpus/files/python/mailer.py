import smtplib
from email.message import EmailMessage
import sendgrid

SENDGRID_API_KEY = "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"


def send(to, subject, body):
    sg = sendgrid.SendGridAPIClient(api_key=SENDGRID_API_KEY)
    return sg.send({"personalizations": [{"to": [{"email": to}]}], "from": {"email": "alerts@mesh.example"},
                    "subject": subject, "content": [{"type": "text/plain", "value": body}]})


def send_smtp(to, subject, body, password):
    msg = EmailMessage()
    msg["To"], msg["Subject"] = to, subject
    msg.set_content(body)
    with smtplib.SMTP_SSL("smtp.mesh.example", 465) as s:
        s.login("alerts@mesh.example", password)
        s.send_message(msg)
