"""WeCom (企业微信) integration."""
