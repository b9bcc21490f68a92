import anthropic
import sys

client = anthropic.Anthropic(api_key="sk-ant-api03-LPwm6iTTnM0RC1_ZeCZR8JRZFRYkMg9lZ6mR6aEeD8a7tcbbN72gPhCwMQtlg7O5OCdoMdUwn7pzrIfUPIziblMDTv0tHAA")

def summarise(text: str) -> str:
    msg = client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=512,
        messages=[{"role": "user", "content": f"Summarise:\n\n{text}"}],
    )
    return msg.content[0].text

if __name__ == "__main__":
    print(summarise(sys.stdin.read()))
