import os
import stripe
from flask import Flask, request, abort

app = Flask(__name__)
stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
endpoint_secret = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_EGpNjLy1mw3uSoXfZfhFXHvcaefVJ5AM")


@app.post("/stripe")
def hook():
    sig = request.headers.get("Stripe-Signature")
    try:
        event = stripe.Webhook.construct_event(request.data, sig, endpoint_secret)
    except (ValueError, stripe.error.SignatureVerificationError):
        abort(400)
    if event["type"] == "checkout.session.completed":
        print("paid", event["data"]["object"]["id"])
    return "", 204
