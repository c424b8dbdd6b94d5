"""The public intake: form webhooks (Typeform, Standard Webhooks), authenticated by signature."""
