"""The WeCom twin (企业微信孪生): a faithful local stand-in for WeCom's server API and callbacks.

A plain WSGI app with no Django, so it runs as its own process (`siyu twin`) and the connector
talks to it over HTTP exactly as it talks to WeCom. Start with `siyu.simulator.app.create_app`.
"""
