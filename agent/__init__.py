"""Agent: shop tools and their MCP server, the LLM agent loop, the offline Thai agent, prompts."""
