-- One database per subgraph (full mode); used by docker-compose's postgres container on first start.
CREATE DATABASE commerce_catalog;
CREATE DATABASE commerce_users;
CREATE DATABASE commerce_orders;
CREATE DATABASE commerce_billing;
