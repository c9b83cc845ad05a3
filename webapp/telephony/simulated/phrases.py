"""Canned lines the simulated agent and callee choose from, by topic."""

TOPIC_WORDS = {
    "appointment": ("appointment", "booking", "schedule", "remind", "visit"),
    "payment": ("payment", "invoice", "balance", "bill", "overdue", "owe"),
    "order": ("order", "delivery", "shipping", "package", "shipment"),
    "survey": ("survey", "feedback", "satisfaction", "rating"),
}
TOPIC_PURPOSE = {
    "appointment": "your upcoming appointment",
    "payment": "your account balance",
    "order": "your recent order",
    "survey": "a quick survey about your recent experience with us",
    "general": "a quick follow-up on your recent request",
}
TOPIC_DETAIL = {
    "appointment": "I just want to make sure the time we have for you still works.",
    "payment": "There is a small balance on your account we'd like to help you settle.",
    "order": "Your order has been processed and is on its way to you.",
    "survey": "On a scale of one to five, how happy were you with our service?",
    "general": "I wanted to check that everything has been working well for you.",
}
# The callee's reaction to the purpose, and how the agent's next line answers it.
REACTIONS = {
    "order": [("Oh, okay. Is everything alright with it?", "Yes, everything is fine. ")],
    "appointment": [("Oh yes, I remember. Is it still on?", "It is. ")],
    "payment": [("Okay. How much do I owe, exactly?", "Let me check. ")],
    "survey": [("Sure, I can do that.", "Thank you. ")],
    "general": [("Alright, what do you need from me?", "Just a quick check. ")],
}
SHARED_REACTIONS = [
    ("Okay, sure. Go on.", ""),
    ("Right, I was wondering about that.", ""),
]
ACKS = {
    "order": ["Great, thanks for letting me know.", "Perfect, I'll keep an eye out."],
    "appointment": ["Yes, that still works for me.", "Yes, I'll be there."],
    "payment": [
        "Okay, I'll pay it online this week.",
        "Alright, I'll take care of it.",
    ],
    "survey": ["I'd say a four. It was good overall.", "A five, honestly. Very happy."],
    "general": ["Yes, that's correct.", "Yep, that's all right."],
}
CALLBACK_TIMES = ("tomorrow after 3 pm", "Friday morning", "any weekday after 5 pm")
ANYTHING_ELSE = "Is there anything else I can help with?"

# What a callee who wants no more calls says (the report's analyzer must recognise each).
OPT_OUT_REQUESTS = [
    "Please stop calling me. Take me off your list.",
    "I'm not interested. Don't call this number again.",
    "Put me on your do-not-call list, please.",
    "Remove me from your list and stop calling me.",
]
OPT_OUT_ACK = (
    "I'm sorry for the trouble. I've removed your number from our list, and you won't be called again. Goodbye."
)
